"""Plain domain types every layer may use: they import nothing else of ours.

Tenant and Principal (who is asking), Secret (a password that prints as
***), the errors the store and services raise, the container definition
(ContainerSpec) and the listing vocabulary (filters, sorts, pages).
"""
