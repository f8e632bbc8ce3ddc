"""The database schema: ordered `.sql` files in `db/init/`.

The same files are mounted into the Postgres container's init directory and
applied by core at start-up for non-container runs (see core/db/migrate.py).
"""

from pathlib import Path

SCHEMA_DIR = Path(__file__).resolve().parent / "init"
