"""The executor both engines run subscriptions with: each event's copy memoizes on its own.

graphql-core 3.3 memoizes the subfields it collects by the identity of each
field group (`Executor._relevant_sub_fields`), in a dict that a subscription's
per-event executors share, since `build_per_event_executor` is a shallow copy.
Every event groups its fields anew, so every event added entries that lived
as long as the subscription: about 0.7 KB an event, for as long as a UI tab
stays open. Each event's copy gets a memo of its own, which goes with it.
"""

from __future__ import annotations

from typing import Any

from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext


class PerEventExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def build_per_event_executor(self, payload: Any) -> Any:
        executor = super().build_per_event_executor(payload)
        executor._relevant_sub_fields = {}
        return executor
