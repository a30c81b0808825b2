"""The peer: what the seed plan would have built, for bench/run to compare the API with.

FastAPI + SQLAlchemy + python-jose on uvicorn (uvloop, httptools), 2 workers, written the way
that stack is usually written: a dependency that verifies the HS256 bearer token, a Pydantic
response model, SQLAlchemy ORM on the same PostgreSQL data, and one JSON log line per request
(python-json-logger). It serves only what the comparison needs:

    GET /api/protected        the same check and answer as the API's
    GET /api/tasks?limit=50   the newest tasks of the token's user, in the API's shape

    DATABASE_URL=postgresql+psycopg://... BETTER_AUTH_SECRET=... \
        uvicorn bench.peer_app:app --workers 2 --loop uvloop --http httptools --no-access-log

Benchmark-only; never part of the API.
"""

import logging
import os
import sys
import time
from datetime import datetime
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from jose import JWTError, jwt
from pydantic import BaseModel, ConfigDict, Field
from pythonjsonlogger.json import JsonFormatter
from sqlalchemy import Boolean, DateTime, String, create_engine, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

SECRET = os.environ["BETTER_AUTH_SECRET"]
engine = create_engine(os.environ["DATABASE_URL"], pool_pre_ping=True)
SessionLocal = sessionmaker(engine, expire_on_commit=False)

handler = logging.StreamHandler(sys.stdout)
handler.setFormatter(JsonFormatter("%(levelname)s %(name)s %(message)s", timestamp=True))
access_log = logging.getLogger("peer.access")
access_log.addHandler(handler)
access_log.setLevel(logging.INFO)
access_log.propagate = False


class Base(DeclarativeBase):
    pass


class Task(Base):
    __tablename__ = "tasks"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(String(2000))
    completed: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TaskOut(BaseModel):
    model_config = ConfigDict(from_attributes=True, populate_by_name=True)

    id: str
    title: str
    description: str | None
    completed: bool
    user_id: str = Field(serialization_alias="userId")
    created_at: datetime = Field(serialization_alias="createdAt")
    updated_at: datetime = Field(serialization_alias="updatedAt")


class Protected(BaseModel):
    message: str
    user_id: str


app = FastAPI()
bearer = HTTPBearer(auto_error=False)


@app.middleware("http")
async def log_request(request: Request, call_next):
    started = time.perf_counter()
    response = await call_next(request)
    access_log.info("request", extra={
        "method": request.method, "path": request.url.path, "status": response.status_code,
        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
        "remote_addr": request.client.host if request.client else None,
    })
    return response


def current_user(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> str:
    if credentials is None:
        raise HTTPException(401, "A bearer access token is required.")
    try:
        claims = jwt.decode(credentials.credentials, SECRET, algorithms=["HS256"])
    except JWTError:
        raise HTTPException(401, "The access token is invalid.") from None
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub or "exp" not in claims:
        raise HTTPException(401, "The access token's claims are not acceptable.")
    return sub


def get_session():
    with SessionLocal() as session:
        yield session


@app.get("/api/protected", response_model=Protected)
async def protected(user_id: Annotated[str, Depends(current_user)]):
    return {"message": "Access granted to a protected resource.", "user_id": user_id}


@app.get("/api/tasks", response_model=list[TaskOut], response_model_by_alias=True)
def list_tasks(
    user_id: Annotated[str, Depends(current_user)],
    session: Annotated[Session, Depends(get_session)],
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
):
    query = (
        select(Task).where(Task.user_id == user_id)
        .order_by(Task.created_at.desc(), Task.id.desc()).limit(limit)
    )
    return session.scalars(query).all()


@app.get("/health")
async def health():
    return {"status": "ok"}
