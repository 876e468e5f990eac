"""A trigger that keeps the grid tree's code rule for every write, bulk ones included.

Grid.clean() gives readable messages in forms and imports; this trigger is the guarantee: a child's
code starts with its parent's, its level is its parent's plus one (a district may hang under a city
of the same first four digits), and district_code is always the code's first six digits.
"""

from django.db import migrations

CREATE = r"""
CREATE OR REPLACE FUNCTION grids_grid_check_tree() RETURNS trigger AS $$
DECLARE
    parent_code varchar;
    parent_level smallint;
BEGIN
    NEW.district_code := left(NEW.code, 6);
    IF NEW.parent_id IS NULL THEN
        IF NEW.level > 1 THEN
            RAISE EXCEPTION 'grid %: a level-% grid needs a parent', NEW.code, NEW.level
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END IF;
    SELECT code, level INTO parent_code, parent_level FROM grids_grid WHERE id = NEW.parent_id;
    IF NEW.level = 1 THEN
        IF parent_level <> 0 OR left(parent_code, 4) <> left(NEW.code, 4) THEN
            RAISE EXCEPTION 'grid %: a district''s parent must be its city', NEW.code
                USING ERRCODE = 'check_violation';
        END IF;
    ELSIF parent_level <> NEW.level - 1 OR left(NEW.code, length(parent_code)) <> parent_code THEN
        RAISE EXCEPTION 'grid %: code must extend its parent''s code % one level down', NEW.code, parent_code
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER grids_grid_check_tree
    BEFORE INSERT OR UPDATE OF code, level, parent_id ON grids_grid
    FOR EACH ROW EXECUTE FUNCTION grids_grid_check_tree();
"""

DROP = """
DROP TRIGGER IF EXISTS grids_grid_check_tree ON grids_grid;
DROP FUNCTION IF EXISTS grids_grid_check_tree();
"""


class Migration(migrations.Migration):
    dependencies = [("grids", "0001_initial")]
    operations = [migrations.RunSQL(CREATE, DROP)]
