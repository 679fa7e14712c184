"""The financing hall's search: every word found anywhere in a loan's name or description, in
any script and case ("茶" finds 福州茶馆), through indexes instead of reading every loan.

- Words of three or more characters: pg_trgm GIN indexes on the very expressions Django's
  ``icontains`` compares (``UPPER(col::text) LIKE UPPER('%word%')``).
- Words of one or two characters (most Chinese searches) have no trigram to look up, so a
  second GIN index holds each loan's distinct single characters and character pairs
  (``lending_short_grams``), kept in a stored generated column ``search_grams`` (computed
  when a loan is written, never while searching: computed row by row in a query it took
  seconds for a letter found in every loan). ``selectors.hall`` asks it first, then
  ``icontains`` decides. The column is the database's own: the model does not load it.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

TRIGRAM_INDEXES = {
    "lending_project_name_trgm": "UPPER((name)::text)",
    "lending_project_description_trgm": "UPPER(description)",
}
SHORT_GRAMS = r"""
CREATE OR REPLACE FUNCTION lending_short_grams(name text, description text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT coalesce(array_agg(DISTINCT gram), '{}'::text[])
  FROM (SELECT UPPER(part) AS u FROM unnest(ARRAY[name, description]) AS part) AS texts,
       LATERAL (SELECT substr(u, i, 1) FROM generate_series(1, length(u)) AS i
                UNION ALL
                SELECT substr(u, i, 2) FROM generate_series(1, length(u) - 1) AS i) AS grams(gram)
  WHERE gram !~ '\s'
$$;
ALTER TABLE lending_project ADD COLUMN IF NOT EXISTS search_grams text[]
  GENERATED ALWAYS AS (lending_short_grams(name, description)) STORED;
CREATE INDEX IF NOT EXISTS lending_project_short_grams ON lending_project USING gin (search_grams);
"""


class Migration(migrations.Migration):

    dependencies = [
        ("lending", "0003_status_choice_values"),
    ]

    operations = [
        TrigramExtension(),
        *[migrations.RunSQL(
            f"CREATE INDEX IF NOT EXISTS {name} ON lending_project USING gin ({expression} gin_trgm_ops)",
            f"DROP INDEX IF EXISTS {name}",
        ) for name, expression in TRIGRAM_INDEXES.items()],
        # The hall's order, newest first, across statuses: a search for a common word walks it
        # and stops after 20 matches instead of sorting every match (12,000 for "renovation").
        migrations.RunSQL("CREATE INDEX IF NOT EXISTS lending_project_published ON lending_project "
                          "(published_at DESC, id DESC)", "DROP INDEX IF EXISTS lending_project_published"),
        migrations.RunSQL(SHORT_GRAMS, "DROP INDEX IF EXISTS lending_project_short_grams; "
                                       "ALTER TABLE lending_project DROP COLUMN IF EXISTS search_grams; "
                                       "DROP FUNCTION IF EXISTS lending_short_grams(text, text);"),
    ]
