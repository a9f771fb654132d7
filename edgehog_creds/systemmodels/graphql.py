"""Hardware types and system models in Edgehog's dialect.

`hardwareTypes`, `hardwareType(id:)`, `systemModels`, `systemModel(id:)`, and
their create, update and delete mutations, with Edgehog's inputs. A system
model's picture is a URL: `pictureFile` (an upload) is refused with a clear
error, since this service stores no files. Part numbers are connections
under every hardware type and system model, read for all of them at once.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Annotated, Any, get_args

import strawberry
from strawberry import UNSET
from strawberry.annotation import StrawberryAnnotation
from strawberry.file_uploads import Upload
from strawberry.types import Info
from strawberry.types.field import StrawberryField

from ..domain.errors import Collector
from ..domain.listing import ListQuery, Page, PageRequest
from ..graphql.context import Context
from ..graphql.fields import connection_field, list_field, node_field, relation_field
from ..graphql.listing import Id, Listing, Relation, Text
from ..graphql.loaders import load_by_id
from ..graphql.relay import Connection, Node, from_global_id, global_id_field, view_of
from ..graphql.results import mutation_field, mutation_result
from . import model
from .model import (
    HARDWARE_TYPE,
    HARDWARE_TYPE_PART_NUMBER,
    SYSTEM_MODEL,
    SYSTEM_MODEL_PART_NUMBER,
)
from .service import HardwareTypesService, SystemModelsService

HARDWARE_TYPES = Listing(
    HARDWARE_TYPE,
    filters={"id": Id("id", HARDWARE_TYPE), "handle": Text("handle"), "name": Text("name")},
    sorts=["id", "handle", "name", "inserted_at"],
)
SYSTEM_MODELS = Listing(
    SYSTEM_MODEL,
    filters={
        "id": Id("id", SYSTEM_MODEL),
        "handle": Text("handle"),
        "name": Text("name"),
        "picture_url": Text("picture_url"),
        "hardware_type": Relation(
            "hardware_type", HARDWARE_TYPES, "The hardware type of the system model."
        ),
    },
    sorts=["id", "handle", "name", "inserted_at"],
)
HARDWARE_TYPE_PART_NUMBERS = Listing(
    HARDWARE_TYPE_PART_NUMBER,
    filters={"id": Id("id", HARDWARE_TYPE_PART_NUMBER), "part_number": Text("part_number")},
    sorts=["id", "part_number"],
)
SYSTEM_MODEL_PART_NUMBERS = Listing(
    SYSTEM_MODEL_PART_NUMBER,
    filters={"id": Id("id", SYSTEM_MODEL_PART_NUMBER), "part_number": Text("part_number")},
    sorts=["id", "part_number"],
)


def non_null(field: StrawberryField) -> Any:
    """`field` with its type made non-null.

    Edgehog's relationship connections are non-null (`TagConnection!`); the
    shared connection factory (graphql/fields.py) makes nullable ones.
    """
    annotation = field.type_annotation
    assert annotation is not None
    members = [a for a in get_args(annotation.raw_annotation) if a is not type(None)]
    assert len(members) == 1, "non_null expects a field typed `X | None`"
    field.type_annotation = StrawberryAnnotation.from_annotation(members[0], annotation.namespace)
    return field


def hardware_types(ctx: Context) -> HardwareTypesService:
    return HardwareTypesService(ctx.db, ctx.user())


def system_models(ctx: Context) -> SystemModelsService:
    return SystemModelsService(ctx.db, ctx.user())


load_hardware_type = load_by_id(HARDWARE_TYPE, lambda ctx: hardware_types(ctx).get_many)
load_system_model = load_by_id(SYSTEM_MODEL, lambda ctx: system_models(ctx).get_many)


async def _hardware_type_part_numbers(
    ctx: Context, ids: Sequence[uuid.UUID], query: ListQuery, request: PageRequest
) -> list[Page[Any]]:
    return await hardware_types(ctx).part_numbers_of(ids, query, request)


async def _system_model_part_numbers(
    ctx: Context, ids: Sequence[uuid.UUID], query: ListQuery, request: PageRequest
) -> list[Page[Any]]:
    return await system_models(ctx).part_numbers_of(ids, query, request)


# --- types ------------------------------------------------------------------------------


@strawberry.type(
    description="Denotes a type of hardware that devices can have: the physical components "
    "embedded in a device (e.g. the revisions of one PCB, each with its part number)."
)
class HardwareType(Node):
    id: strawberry.ID = global_id_field(HARDWARE_TYPE)
    handle: str = strawberry.field(
        description="The identifier of the hardware type: lower case ASCII letters, digits and -."
    )
    name: str = strawberry.field(description="The display name of the hardware type.")
    part_numbers: Connection[HardwareTypePartNumber] = non_null(
        connection_field(
            Annotated[
                "HardwareTypePartNumber", strawberry.lazy("edgehog_creds.systemmodels.graphql")
            ],
            _hardware_type_part_numbers,
            name="HardwareType.partNumbers",
            listing=HARDWARE_TYPE_PART_NUMBERS,
            description="The list of part numbers associated with the hardware type.",
        )
    )

    is_type_of = view_of(model.HardwareType)


async def _hardware_type_of(
    root: strawberry.Parent[model.HardwareTypePartNumber | model.SystemModel],
    info: Info[Context, None],
) -> Any:
    return await load_hardware_type(info.context, root.hardware_type_id)


@strawberry.type
class HardwareTypePartNumber:
    id: strawberry.ID = global_id_field(HARDWARE_TYPE_PART_NUMBER)
    part_number: str = strawberry.field(description="The part number identifier.")
    hardware_type: HardwareType | None = relation_field(_hardware_type_of, HardwareType | None)

    is_type_of = view_of(model.HardwareTypePartNumber)


@strawberry.type(description="A description in one language.")
class LocalizedAttribute:
    value: str
    language_tag: str


def _localized_descriptions(
    root: strawberry.Parent[model.SystemModel],
    preferred_language_tags: list[str] | None = None,
) -> list[LocalizedAttribute] | None:
    wanted = set(preferred_language_tags) if preferred_language_tags is not None else None
    return [
        LocalizedAttribute(value=value, language_tag=tag)
        for tag, value in root.descriptions
        if wanted is None or tag in wanted
    ]


@strawberry.type(
    description="A system model: what users think of as functionally equivalent devices. "
    "Each system model is built on one hardware type."
)
class SystemModel(Node):
    id: strawberry.ID = global_id_field(SYSTEM_MODEL)
    handle: str = strawberry.field(
        description="The identifier of the system model: lower case ASCII letters, digits and -."
    )
    name: str = strawberry.field(description="The display name of the system model.")
    picture_url: str | None = strawberry.field(
        description="A URL to a picture representing the system model."
    )
    part_numbers: Connection[SystemModelPartNumber] = non_null(
        connection_field(
            Annotated[
                "SystemModelPartNumber", strawberry.lazy("edgehog_creds.systemmodels.graphql")
            ],
            _system_model_part_numbers,
            name="SystemModel.partNumbers",
            listing=SYSTEM_MODEL_PART_NUMBERS,
            description="The list of part numbers associated with the system model.",
        )
    )
    hardware_type: HardwareType | None = relation_field(
        _hardware_type_of,
        HardwareType | None,
        description="The hardware type associated with the system model.",
    )
    localized_descriptions: list[LocalizedAttribute] | None = strawberry.field(
        resolver=_localized_descriptions,
        description="Descriptions in different languages (only the preferred ones, if given).",
    )

    is_type_of = view_of(model.SystemModel)


async def _system_model_of(
    root: strawberry.Parent[model.SystemModelPartNumber], info: Info[Context, None]
) -> Any:
    return await load_system_model(info.context, root.system_model_id)


@strawberry.type
class SystemModelPartNumber:
    id: strawberry.ID = global_id_field(SYSTEM_MODEL_PART_NUMBER)
    part_number: str = strawberry.field(description="The part number identifier.")
    system_model: SystemModel | None = relation_field(_system_model_of, SystemModel | None)

    is_type_of = view_of(model.SystemModelPartNumber)


# --- inputs and mutations ---------------------------------------------------------------


@strawberry.input
class CreateHardwareTypeInput:
    handle: str = strawberry.field(
        description="The identifier of the hardware type: lower case ASCII letters, digits and -."
    )
    name: str = strawberry.field(description="The display name of the hardware type.")
    part_numbers: list[str] = strawberry.field(description="At least one part number.")


@strawberry.input
class UpdateHardwareTypeInput:
    handle: str | None = UNSET
    name: str | None = UNSET
    part_numbers: list[str] | None = strawberry.field(
        default=UNSET,
        description="The part numbers it has from now on (others it had are removed).",
    )


@strawberry.input
class LocalizedAttributeInput:
    value: str
    language_tag: str


@strawberry.input
class LocalizedAttributeUpdateInput:
    value: str | None = strawberry.field(default=None, description="null removes the language.")
    language_tag: str


@strawberry.input
class CreateSystemModelInput:
    handle: str = strawberry.field(
        description="The identifier of the system model: lower case ASCII letters, digits and -."
    )
    name: str = strawberry.field(description="The display name of the system model.")
    picture_url: str | None = strawberry.field(
        default=None, description="A URL to a picture representing the system model."
    )
    hardware_type_id: strawberry.ID = strawberry.field(
        description="The ID of the hardware type that can be used by devices of this model"
    )
    part_numbers: list[str] = strawberry.field(description="At least one part number.")
    picture_file: Upload | None = strawberry.field(
        default=None, description="Not supported here (this server stores no files): refused."
    )
    localized_descriptions: list[LocalizedAttributeInput] | None = strawberry.field(
        default=None, description="Descriptions in different languages."
    )


@strawberry.input
class UpdateSystemModelInput:
    handle: str | None = UNSET
    name: str | None = UNSET
    picture_url: str | None = strawberry.field(default=UNSET, description="null removes it.")
    part_numbers: list[str] | None = strawberry.field(
        default=UNSET,
        description="The part numbers it has from now on (others it had are removed).",
    )
    picture_file: Upload | None = strawberry.field(
        default=UNSET, description="Not supported here (this server stores no files): refused."
    )
    localized_descriptions: list[LocalizedAttributeUpdateInput] | None = strawberry.field(
        default=UNSET,
        description="Descriptions to set; a null value removes that language.",
    )


CreateHardwareTypeResult = mutation_result("CreateHardwareTypeResult", HardwareType)
UpdateHardwareTypeResult = mutation_result("UpdateHardwareTypeResult", HardwareType)
DeleteHardwareTypeResult = mutation_result("DeleteHardwareTypeResult", HardwareType)
CreateSystemModelResult = mutation_result("CreateSystemModelResult", SystemModel)
UpdateSystemModelResult = mutation_result("UpdateSystemModelResult", SystemModel)
DeleteSystemModelResult = mutation_result("DeleteSystemModelResult", SystemModel)


def _given(input: Any, names: Sequence[str]) -> dict[str, Any]:
    """The fields of an update input the client gave (null included)."""
    if input is None or input is UNSET:
        return {}
    return {name: getattr(input, name) for name in names if getattr(input, name) is not UNSET}


async def _create_hardware_type(info: Info[Context, None], input: CreateHardwareTypeInput) -> Any:
    created = await hardware_types(info.context).create(
        handle=input.handle, name=input.name, part_numbers=input.part_numbers
    )
    return CreateHardwareTypeResult(result=created)


async def _update_hardware_type(
    info: Info[Context, None], id: strawberry.ID, input: UpdateHardwareTypeInput | None = None
) -> Any:
    service = hardware_types(info.context)
    changes = _given(input, ("handle", "name", "part_numbers"))
    updated = await service.update(from_global_id(id, HARDWARE_TYPE), changes)
    return UpdateHardwareTypeResult(result=updated)


async def _delete_hardware_type(info: Info[Context, None], id: strawberry.ID) -> Any:
    service = hardware_types(info.context)
    deleted = await service.delete(from_global_id(id, HARDWARE_TYPE))
    return DeleteHardwareTypeResult(result=deleted)


async def _create_system_model(info: Info[Context, None], input: CreateSystemModelInput) -> Any:
    service = system_models(info.context)
    check = Collector()
    hardware_type_id = check.check(
        from_global_id, input.hardware_type_id, HARDWARE_TYPE, "hardware_type_id"
    )
    check.raise_all()
    assert hardware_type_id is not None
    created = await service.create(
        handle=input.handle,
        name=input.name,
        hardware_type_id=hardware_type_id,
        part_numbers=input.part_numbers,
        picture_url=input.picture_url,
        picture_file_given=input.picture_file is not None,
        descriptions=[(d.language_tag, d.value) for d in input.localized_descriptions or ()],
    )
    return CreateSystemModelResult(result=created)


async def _update_system_model(
    info: Info[Context, None], id: strawberry.ID, input: UpdateSystemModelInput | None = None
) -> Any:
    service = system_models(info.context)
    changes = _given(input, ("handle", "name", "picture_url", "part_numbers"))
    if input is not None and input.picture_file not in (None, UNSET):
        changes["picture_file_given"] = True
    if input is not None and input.localized_descriptions not in (None, UNSET):
        changes["descriptions"] = [(d.language_tag, d.value) for d in input.localized_descriptions]
    updated = await service.update(from_global_id(id, SYSTEM_MODEL), changes)
    return UpdateSystemModelResult(result=updated)


async def _delete_system_model(info: Info[Context, None], id: strawberry.ID) -> Any:
    service = system_models(info.context)
    deleted = await service.delete(from_global_id(id, SYSTEM_MODEL))
    return DeleteSystemModelResult(result=deleted)


@strawberry.type
class SystemModelsQueries:
    hardware_type: HardwareType | None = node_field(
        HARDWARE_TYPE, HardwareType, load_hardware_type, description="One hardware type, or null."
    )
    hardware_types: Connection[HardwareType] | None = list_field(
        HardwareType,
        lambda ctx, query, request: hardware_types(ctx).list_hardware_types(query, request),
        listing=HARDWARE_TYPES,
        description="Hardware types of this tenant, keyset-paginated.",
    )
    system_model: SystemModel | None = node_field(
        SYSTEM_MODEL, SystemModel, load_system_model, description="One system model, or null."
    )
    system_models: Connection[SystemModel] | None = list_field(
        SystemModel,
        lambda ctx, query, request: system_models(ctx).list_system_models(query, request),
        listing=SYSTEM_MODELS,
        description="System models of this tenant, keyset-paginated.",
    )


@strawberry.type
class SystemModelsMutations:
    create_hardware_type: Any = mutation_field(
        _create_hardware_type,
        CreateHardwareTypeResult,
        "Creates a hardware type. A part number another hardware type had moves to this one.",
    )
    update_hardware_type: Any = mutation_field(
        _update_hardware_type,
        UpdateHardwareTypeResult,
        "Updates a hardware type; partNumbers, when given, replace its part numbers.",
    )
    delete_hardware_type: Any = mutation_field(
        _delete_hardware_type,
        DeleteHardwareTypeResult,
        "Deletes a hardware type and its part numbers; refused while a system model uses it.",
    )
    create_system_model: Any = mutation_field(
        _create_system_model,
        CreateSystemModelResult,
        "Creates a system model. Pictures are URLs (pictureUrl); uploads are refused.",
    )
    update_system_model: Any = mutation_field(
        _update_system_model,
        UpdateSystemModelResult,
        "Updates a system model; partNumbers, when given, replace its part numbers.",
    )
    delete_system_model: Any = mutation_field(
        _delete_system_model,
        DeleteSystemModelResult,
        "Deletes a system model; its devices are left without one.",
    )


NODE_LOADERS = {HARDWARE_TYPE: load_hardware_type, SYSTEM_MODEL: load_system_model}
