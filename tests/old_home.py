"""A home as modelkit wrote it before schema 6, for the upgrade tests: built by training and uploading with
today's code, then laid out the old way.

Up to schema 5 a home kept, beside a database without the blob tables:

    artifacts/<run id>/model.safetensors, config.json
    datasets/<id>/meta.json, data.npz, text.txt
    blobs/<ref>.txt

The bytes of each file are the ones the old code wrote: today's code makes them the same way (safetensors'
save_model, the indented config JSON, np.savez, the dataset's JSON) and only keeps them elsewhere.
"""
from __future__ import annotations

import shutil

OLD_PLACES = {"run": "artifacts", "dataset": "datasets"}


def lay_out_the_old_way(store):
    """Move every blob of `store` into the files an older home held, and take its database back to schema 5."""
    home = store.home
    for name in store.blobs.names(""):
        kind, rest = name.split("/", 1)
        path = home / "blobs" / f"{rest}.txt" if kind == "text" else home / OLD_PLACES[kind] / rest
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(store.blobs.read(name))
    with store.engine.begin() as c:
        c.exec_driver_sql("DROP TABLE blob_names")
        c.exec_driver_sql("DROP TABLE blobs")
        c.exec_driver_sql("UPDATE meta SET value = '5' WHERE key = 'schema_version'")
    store.engine.dispose()
    shutil.rmtree(home / "cache" / "blobs", ignore_errors=True)
