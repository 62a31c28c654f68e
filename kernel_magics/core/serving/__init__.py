"""Model serving: the FastAPI model server, deployments (start/stop/rollback), prediction log.

Nothing heavy is imported here; see :mod:`.deployments` (deploy, rollback, stop),
:mod:`.worker` (``serve`` in the foreground), :mod:`.app` (the FastAPI app) and
:mod:`.scoring` (request validation).
"""
