-- Write side of the facet-cell prototype: builds probe_* tables (a scratch database only).
-- Prototype: facet counts per 100 m UTM cell (level 0) and 400 m (level 2) of the services
-- whose located published places all lie in one level-0 cell; the others are listed apart.
DROP TABLE IF EXISTS probe_simple, probe_spread, probe_facet_cell;
CREATE TABLE probe_simple AS
SELECT s.id AS service_id, min(floor(ST_X(l.geom_utm) / 100))::int AS cx, min(floor(ST_Y(l.geom_utm) / 100))::int AS cy,
       count(DISTINCT (floor(ST_X(l.geom_utm) / 100), floor(ST_Y(l.geom_utm) / 100))) AS cells,
       count(*) FILTER (WHERE l.geom_utm IS NULL) AS unplanar
FROM service s JOIN organization o ON o.id = s.organization_id
JOIN service_at_location sal ON sal.service_id = s.id JOIN location l ON l.id = sal.location_id
WHERE s.status = 'published' AND o.status = 'published' AND o.merged_into_id IS NULL
  AND l.status = 'published' AND l.geom IS NOT NULL
GROUP BY s.id;
CREATE TABLE probe_spread AS
SELECT sal.service_id, l.geom_utm FROM probe_simple p JOIN service_at_location sal ON sal.service_id = p.service_id
JOIN location l ON l.id = sal.location_id WHERE (p.cells > 1 OR p.unplanar > 0) AND l.status = 'published' AND l.geom IS NOT NULL;
DELETE FROM probe_simple WHERE cells > 1 OR unplanar > 0;
ALTER TABLE probe_simple ADD PRIMARY KEY (service_id);
CREATE INDEX ON probe_spread USING gist (geom_utm);
CREATE TABLE probe_facet_cell AS
WITH RECURSIVE lineage(term_id, ancestor_id) AS (
  SELECT id, id FROM taxonomy_term UNION ALL
  SELECT lineage.term_id, p.parent_id FROM lineage JOIN taxonomy_term p ON p.id = lineage.ancestor_id WHERE p.parent_id IS NOT NULL
), svc AS (
  SELECT p.cx, p.cy, s.id, s.target_groups, s.delivery, s.service_area_comuni FROM probe_simple p JOIN service s ON s.id = p.service_id
), k AS (
  SELECT DISTINCT cx, cy, svc.id, 'category' AS facet, lineage.ancestor_id::text AS key FROM svc JOIN service_category sc ON sc.service_id = svc.id JOIN lineage ON lineage.term_id = sc.term_id
  UNION SELECT cx, cy, svc.id, 'comune', l.comune_istat FROM svc JOIN service_at_location sal ON sal.service_id = svc.id JOIN location l ON l.id = sal.location_id WHERE l.status = 'published' AND l.comune_istat IS NOT NULL
  UNION SELECT cx, cy, svc.id, 'comune', unnest(service_area_comuni) FROM svc
), pairs AS (
  SELECT cx, cy, facet, key, count(*) AS n FROM k GROUP BY 1, 2, 3, 4
  UNION ALL SELECT cx, cy, 'target_group', g, count(*) FROM svc, unnest(target_groups) g GROUP BY 1, 2, 3, 4
  UNION ALL SELECT cx, cy, 'delivery', d, count(*) FROM svc, unnest(delivery) d GROUP BY 1, 2, 3, 4
  UNION ALL SELECT cx, cy, 'total', '', count(*) FROM svc GROUP BY 1, 2, 3, 4
)
SELECT 0 AS level, cx, cy, array_agg(facet) AS facets, array_agg(key) AS keys, array_agg(n::int) AS counts FROM pairs GROUP BY cx, cy
UNION ALL
SELECT 2, cx, cy, array_agg(facet), array_agg(key), array_agg(n::int) FROM (SELECT cx >> 2 AS cx, cy >> 2 AS cy, facet, key, sum(n) AS n FROM pairs GROUP BY 1, 2, 3, 4) t GROUP BY cx, cy;
ALTER TABLE probe_facet_cell ADD PRIMARY KEY (level, cx, cy);
VACUUM ANALYZE probe_simple; VACUUM ANALYZE probe_spread; VACUUM ANALYZE probe_facet_cell;
SELECT (SELECT count(*) FROM probe_simple) simple, (SELECT count(DISTINCT service_id) FROM probe_spread) spread,
  (SELECT count(*) FROM probe_facet_cell) cells, pg_size_pretty(pg_total_relation_size('probe_facet_cell')) cell_size,
  pg_size_pretty(pg_total_relation_size('probe_simple')) simple_size;
