"""ApiKeyRepository: every PostgreSQL query for API keys. It never commits."""

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import ColumnElement, bindparam, select, true, update
from sqlalchemy.dialects.postgresql import array, insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from intake_service.store.postgres.engine import driver_fetch
from intake_service.store.postgres.tables import ApiKey


class KeyRow(NamedTuple):
    """What a request's authentication reads of its key."""

    id: str
    name: str
    secret_hash: str
    scopes: list[str]
    workspaces: list[str]
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


_BY_ID = select(*(getattr(ApiKey, field) for field in KeyRow._fields)).where(ApiKey.id == bindparam("id"))


def _within(workspaces: Collection[str] | None) -> ColumnElement[bool]:
    """Keys whose workspaces all lie in `workspaces` (None: every key)."""
    if workspaces is None:
        return true()
    return ApiKey.workspaces.contained_by(array(sorted(workspaces), type_=ApiKey.workspaces.type.item_type))


class ApiKeyRepository:
    """`driver`, given only outside a transaction (a GET's authentication), runs lookup straight on
    the driver (engine.driver_fetch): the ORM's statement cost more than the rest of a GET of an
    experiment."""

    def __init__(self, session: AsyncSession, driver: AsyncEngine | None = None) -> None:
        self.session = session
        self.driver = driver

    async def insert(
        self,
        *,
        id: str,
        name: str,
        secret_hash: str,
        scopes: list[str],
        workspaces: list[str],
        expires_at: datetime | None,
        created_at: datetime,
    ) -> ApiKey | None:
        """None when a key of that name exists already (revoked keys keep their name)."""
        statement = (
            insert(ApiKey)
            .values(
                id=id,
                name=name,
                secret_hash=secret_hash,
                scopes=scopes,
                workspaces=workspaces,
                expires_at=expires_at,
                created_at=created_at,
            )
            .on_conflict_do_nothing(index_elements=["name"])
            .returning(ApiKey)
        )
        return (await self.session.scalars(statement)).one_or_none()

    async def get(self, key_id: str) -> ApiKey | None:
        return await self.session.get(ApiKey, key_id)

    async def lookup(self, key_id: str) -> KeyRow | None:
        if self.driver is None:
            row = await self.session.get(ApiKey, key_id)
            return None if row is None else KeyRow(*(getattr(row, field) for field in KeyRow._fields))
        found = await driver_fetch(self.driver, "api_keys.by_id", lambda: _BY_ID, {"id": key_id})
        return KeyRow(**found[0]) if found else None

    async def list_all(self, within: Collection[str] | None = None) -> Sequence[ApiKey]:
        statement = select(ApiKey).where(_within(within)).order_by(ApiKey.created_at, ApiKey.name)
        return (await self.session.scalars(statement)).all()

    async def revoke(self, name: str, moment: datetime, within: Collection[str] | None = None) -> ApiKey | None:
        statement = (
            update(ApiKey)
            .where(ApiKey.name == name, ApiKey.revoked_at.is_(None), _within(within))
            .values(revoked_at=moment)
            .returning(ApiKey)
        )
        return (await self.session.scalars(statement)).one_or_none()

    async def touch(self, key_id: str, moment: datetime, older_than: datetime) -> None:
        """Record use at most once per interval, so reads do not each write a row."""
        await self.session.execute(
            update(ApiKey)
            .where(ApiKey.id == key_id)
            .where((ApiKey.last_used_at.is_(None)) | (ApiKey.last_used_at < older_than))
            .values(last_used_at=moment)
        )
