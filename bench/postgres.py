"""A benchmark's own PostgreSQL database: created when missing, emptied before seeding."""

from __future__ import annotations


async def reset_postgres(url: str) -> None:
    """Create the database if it is missing, then drop and recreate its `public` schema."""
    import asyncpg

    dsn = url.replace("postgresql+asyncpg://", "postgresql://")
    base, _, name = dsn.rpartition("/")
    server = await asyncpg.connect(f"{base}/postgres", timeout=10)
    try:
        if not await server.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await server.execute(f'CREATE DATABASE "{name}"')
    finally:
        await server.close()
    connection = await asyncpg.connect(dsn, timeout=10)
    try:
        await connection.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;")
    finally:
        await connection.close()
