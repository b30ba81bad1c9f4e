"""The metamodel's GraphQL shapes under one name, for resolvers that translate many of them.

The shapes live in their own modules (`schema.dictionary_types`, `schema.library_types`,
`schema.business_type_types`, `schema.publish_types`, `schema.user_types`); this module only
names the ones `resolvers.metadata`, `resolvers.publishing` and `resolvers.library` read as
`mt.…`. New code imports from the defining module.
"""

from __future__ import annotations

from schema.business_type_types import (
    BusinessType,
    BusinessTypeVersion,
    SaveBusinessTypeDraftInput,
    SaveBusinessTypeDraftPayload,
    TransitionInput,
)
from schema.dictionary_types import DataItem, ItemImpact, UpsertDataItemInput, UpsertDataItemPayload
from schema.library_types import (
    OrgUnit,
    Post,
    Stage,
    UpsertOrgUnitInput,
    UpsertOrgUnitPayload,
    UpsertPostInput,
    UpsertPostPayload,
    UpsertStageInput,
    UpsertStagePayload,
)
from schema.publish_types import (
    PublishBusinessTypePayload,
    RetireBusinessTypePayload,
    SchemaChange,
    SchemaChanges,
)

__all__ = [
    "BusinessType",
    "BusinessTypeVersion",
    "DataItem",
    "ItemImpact",
    "OrgUnit",
    "Post",
    "PublishBusinessTypePayload",
    "RetireBusinessTypePayload",
    "SaveBusinessTypeDraftInput",
    "SaveBusinessTypeDraftPayload",
    "SchemaChange",
    "SchemaChanges",
    "Stage",
    "TransitionInput",
    "UpsertDataItemInput",
    "UpsertDataItemPayload",
    "UpsertOrgUnitInput",
    "UpsertOrgUnitPayload",
    "UpsertPostInput",
    "UpsertPostPayload",
    "UpsertStageInput",
    "UpsertStagePayload",
]
