"""Behaviour the generated job types share: refresh, cancel and wait from the job itself."""

from __future__ import annotations

from typing import Any


class JobMixin:
    """Mixed into TrainingJob and InferenceJob (scripts/generate.py's MIXINS)."""

    id: str
    object: str
    status: str
    _client: Any

    def _resource(self) -> Any:
        if self._client is None:
            raise RuntimeError(
                "this job was not fetched by a Maas client, so it cannot call the API"
            )
        return (
            self._client.training_jobs
            if self.object == "training_job"
            else self._client.inference_jobs
        )

    @property
    def finished(self) -> bool:
        return self.status in ("succeeded", "failed", "canceled")

    def refresh(self) -> Any:
        return self._resource().get(self.id)

    def cancel(self) -> Any:
        return self._resource().cancel(self.id)

    def wait(self, timeout: float | None = None, progress: bool = False) -> Any:
        """Long-polls (`Prefer: wait`) until the job finishes; see `TrainingJobs.wait`."""
        return self._resource().wait(self.id, timeout=timeout, progress=progress)
