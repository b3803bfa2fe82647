"""The durable run store: runs, metric points, live snapshots, controls and artifacts."""
from modelkit.store.artifacts import (  # noqa: F401
    NoModelError,
)
from modelkit.store.database import (  # noqa: F401
    HEARTBEAT_STALE_S,
    ID_TRIES,
    INTERRUPTED_MESSAGE,
    Store,
    default_home,
    default_url,
    new_run_id,
    pid_alive,
)
from modelkit.store.queue import (  # noqa: F401
    fair_order,
)
from modelkit.store.records import (  # noqa: F401
    ACTIVE,
    HOST,
    STATUSES,
    Challenge,
    Run,
    StoreError,
)
from modelkit.store.schema import (  # noqa: F401
    POINT_COLUMNS,
    SCHEMA_LOCK,
    SCHEMA_VERSION,
    challenges_table,
    controls_table,
    live_table,
    meta_table,
    metadata,
    points_table,
    runs_table,
    snapshots_table,
)
