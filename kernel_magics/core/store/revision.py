"""The schema revision this code writes, in a module that imports nothing.

Read by the migrations (:mod:`.migrate`) and by the SQLAlchemy-free quick reads.
"""

#: The newest migration in ``migrations/versions``; a test checks it is alembic's head.
HEAD_REVISION = "0016"
