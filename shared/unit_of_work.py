"""The unit of work every service's use cases run in (as in cosmicpython): one transaction,
``with uow: ...; uow.commit()``. Leaving without ``commit`` (or with an error) rolls back."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Self


class UnitOfWork(ABC):
    """One transaction over a service's repositories (which each service's subclass names)."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.rollback()  # after a commit, nothing is left to roll back

    @abstractmethod
    def commit(self) -> None: ...

    @abstractmethod
    def rollback(self) -> None: ...
