"""A workshop room: seats, the host and their key, the limits that keep a room fair, the one door every
run passes, the owner of every control, challenges, leaderboards, lessons, the gallery, hidden tests."""
from modelkit.room import actions, gallery, hidden, lessons  # noqa: F401
from modelkit.room.challenges import (  # noqa: F401
    FIXED,
    challenge_config,
    create_challenge,
    find_challenge,
    parse_locked,
    within_challenge,
)
from modelkit.room.door import (  # noqa: F401
    MAX_GROUP,
    admit,
    admit_all,
)
from modelkit.room.host import (  # noqa: F401
    HOST_COOKIE,
    HOST_KEY_ENV,
    HOST_KEY_FILE,
    PUBLIC_URL_ENV,
    RoomKeyGuard,
    announce_host_key,
    answers,
    close_host_session,
    host_key,
    is_host_key,
    is_host_session,
    join_url,
    key_wait,
    open_host_session,
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
from modelkit.room.seats import (  # noqa: F401
    check_name,
    claim,
    GUEST_COOKIE,
    free_seat,
    guest_owner,
    is_anonymous,
    new_guest,
    seat_key,
    taken_seats,
)
