"""The fair queue: which queued run starts next when a worker is free."""
from __future__ import annotations

import heapq


def fair_order(queued, last_started: dict, running: dict | None = None, behind=frozenset()) -> list[str]:
    """Queued run ids in the order they start: round-robin across owners, not first-come-first-served.

    `queued` is (id, owner, created) oldest first; `last_started` owner -> when their latest run
    started; `running` owner -> how many of their runs train now. The next run is the oldest queued
    run of the owner who has waited longest (since their last run started, or since their oldest
    queued run was made, whichever is later), among those with the fewest runs training.
    The runs in `behind` (ids beyond their owner's share, modelkit.room.door) start after all the others.
    """
    if behind:
        first = [q for q in queued if q[0] not in behind]
        order = fair_order(first, last_started, running)
        training = dict(running or {})
        for _, owner, _ in first:
            training[owner] = training.get(owner, 0) + 1
        return order + fair_order([q for q in queued if q[0] in behind], last_started, training)
    runs: dict[str, list] = {}
    for run_id, owner, created in queued:
        runs.setdefault(owner, []).append((created, run_id))
    training = dict(running or {})
    # (runs training, 0, waiting since) for owners waiting now; (.., 1, turn) once served, in serving order
    heap = [((training.get(o, 0), 0, max(last_started.get(o) or 0.0, mine[0][0]), mine[0][1]), o)
            for o, mine in runs.items()]
    heapq.heapify(heap)
    order = []
    while heap:
        _, owner = heapq.heappop(heap)
        order.append(runs[owner].pop(0)[1])
        training[owner] = training.get(owner, 0) + 1
        if runs[owner]:
            heapq.heappush(heap, ((training[owner], 1, len(order), ""), owner))
    return order
