"""A workshop room: the host and their key, the limits that keep a room fair, challenges, leaderboards."""
from modelkit.room.challenges import (  # noqa: F401
    FIXED,
    challenge_config,
    create_challenge,
    find_challenge,
    parse_locked,
    within_challenge,
)
from modelkit.room.door import (  # noqa: F401
    admit,
)
from modelkit.room.host import (  # noqa: F401
    HOST_KEY_ENV,
    HOST_KEY_FILE,
    announce_host_key,
    host_key,
    is_host_key,
)
from modelkit.room.leaderboard import (  # noqa: F401
    BOARD_COLUMNS,
    board_metric,
    leaderboard,
    people,
)
from modelkit.room.rules import (  # noqa: F401
    Limits,
    current_limits,
    estimate_wait,
    log,
    param_count,
    set_limits,
    warm_up,
    within_limits,
)
