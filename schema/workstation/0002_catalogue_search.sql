-- Full-text search over the catalogue, in every language, insensitive to case and diacritics
-- ("etat civil" finds "État civil"). Rows share their rowid with services.id.
CREATE VIRTUAL TABLE service_search USING fts5 (
    title,
    keywords,
    description,
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '2 3'
);

-- Databases made before this migration already hold a catalogue: index it now.
INSERT INTO service_search (rowid, title, keywords, description)
SELECT
    s.id,
    (SELECT group_concat(value, ' ') FROM json_each(s.definition, '$.title')),
    coalesce((SELECT group_concat(k.value, ' ')
              FROM json_each(s.definition, '$.keywords') AS l, json_each(l.value) AS k), ''),
    (SELECT group_concat(value, ' ') FROM json_each(s.definition, '$.description'))
FROM services AS s;
