"""The one SQL predicate of reader scope (common.scopes): is a grid code among the reader's patterns.

`patterns` is what Scope.code_patterns(kind) answers for the visibility rule of a kind: NULL for a
reader who sees every row, an array of LIKE patterns ('510502001%' a subtree, a bare code one grid)
otherwise, empty for none. A plain SQL function, so PostgreSQL inlines it into every statement that
calls it: no call overhead and the same plans as the expression written out.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION gridgis_in_scope(code text, patterns text[]) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT patterns IS NULL OR code LIKE ANY (patterns) $$;
"""

DROP = "DROP FUNCTION IF EXISTS gridgis_in_scope(text, text[]);"


class Migration(migrations.Migration):
    dependencies = [("common", "0001_initial")]

    operations = [migrations.RunSQL(CREATE, DROP)]
