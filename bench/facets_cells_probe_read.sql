-- Read side of the facet-cell prototype (see results-2026-12-04-facets1m.md): the cells wholly
-- inside the circle summed, the rest counted exactly. psql -v lon=9.39 -v lat=45.853 -f …
-- Radius fixed at 3000 m; cell sides 100 m (level 0) and 400 m (level 2). A probe, not the
-- production statement: its plan is not tuned (see the results file).
WITH RECURSIVE q AS (SELECT ST_X(g) AS qx, ST_Y(g) AS qy, g FROM (SELECT ST_Transform(ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), 32632) AS g) t),
c2 AS MATERIALIZED (SELECT i, j FROM q, generate_series(floor((qx - 3011) / 400)::int, floor((qx + 3011) / 400)::int) i,
     generate_series(floor((qy - 3011) / 400)::int, floor((qy + 3011) / 400)::int) j
  WHERE sqrt(power(greatest(abs(i * 400 - qx), abs(i * 400 + 400 - qx)), 2) + power(greatest(abs(j * 400 - qy), abs(j * 400 + 400 - qy)), 2)) <= 0.9996 * 3000 - 0.01),
c0 AS MATERIALIZED (SELECT i, j, sqrt(power(greatest(abs(i * 100 - qx), abs(i * 100 + 100 - qx)), 2) + power(greatest(abs(j * 100 - qy), abs(j * 100 + 100 - qy)), 2)) <= 0.9996 * 3000 - 0.01 AS is_inner,
     sqrt(power(greatest(i * 100 - qx, qx - i * 100 - 100, 0), 2) + power(greatest(j * 100 - qy, qy - j * 100 - 100, 0), 2)) <= 1.0035 * 3000 + 0.01 AS touches
  FROM q, generate_series(floor((qx - 3011) / 100)::int, floor((qx + 3011) / 100)::int) i,
     generate_series(floor((qy - 3011) / 100)::int, floor((qy + 3011) / 100)::int) j
  WHERE (i >> 2, j >> 2) NOT IN (SELECT i, j FROM c2)),
summed AS (SELECT u.facet, u.key, sum(u.n)::bigint AS n FROM probe_facet_cell f, unnest(f.facets, f.keys, f.counts) AS u(facet, key, n)
  WHERE (f.level, f.cx, f.cy) IN (SELECT 2, i, j FROM c2 UNION ALL SELECT 0, i, j FROM c0 WHERE is_inner) GROUP BY u.facet, u.key),
rim_ids AS MATERIALIZED (
  SELECT sal.service_id FROM c0 CROSS JOIN q CROSS JOIN LATERAL (SELECT l.id FROM location l
      WHERE l.geom_utm && ST_MakeEnvelope(c0.i * 100, c0.j * 100, c0.i * 100 + 100, c0.j * 100 + 100, 32632)
        AND floor(ST_X(l.geom_utm) / 100) = c0.i AND floor(ST_Y(l.geom_utm) / 100) = c0.j
        AND l.status = 'published' AND ST_DWithin(l.geom_utm, q.g, 3010.5) AND (ST_DWithin(l.geom_utm, q.g, 2998.79) OR ST_DWithin(l.geom::geography, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography, 3000.0))
      OFFSET 0) l
    JOIN service_at_location sal ON sal.location_id = l.id
  WHERE NOT c0.is_inner AND c0.touches
  UNION
  SELECT sp.service_id FROM probe_spread sp JOIN service_at_location sal ON sal.service_id = sp.service_id JOIN location l ON l.id = sal.location_id, q
  WHERE ST_DWithin(sp.geom_utm, q.g, 3010.5) AND l.status = 'published' AND ST_DWithin(l.geom_utm, q.g, 3010.5)
    AND (ST_DWithin(l.geom_utm, q.g, 2998.79) OR ST_DWithin(l.geom::geography, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography, 3000.0))
),
matching AS MATERIALIZED 
(SELECT service.id AS id, service.target_groups AS target_groups, service.delivery AS delivery, service.service_area_comuni AS service_area_comuni 
FROM rim_ids CROSS JOIN LATERAL (SELECT * FROM service WHERE service.id = rim_ids.service_id OFFSET 0) AS service 
WHERE service.status = 'published' AND (EXISTS (SELECT * 
FROM organization 
WHERE organization.id = service.organization_id AND organization.status = 'published' AND organization.merged_into_id IS NULL))), 
lineage(term_id, ancestor_id) AS 
(SELECT taxonomy_term.id AS term_id, taxonomy_term.id AS ancestor_id 
FROM taxonomy_term UNION ALL SELECT lineage.term_id AS term_id, parent_term.parent_id AS parent_id 
FROM lineage JOIN taxonomy_term AS parent_term ON parent_term.id = lineage.ancestor_id 
WHERE parent_term.parent_id IS NOT NULL), exact AS (
 SELECT 'total' AS facet, CAST('' AS VARCHAR) AS key, count(*) AS count_1 
FROM matching UNION ALL SELECT 'category' AS facet, CAST(lineage.ancestor_id AS VARCHAR) AS key, count(distinct(matching.id)) AS count_2 
FROM matching JOIN service_category ON service_category.service_id = matching.id JOIN lineage ON lineage.term_id = service_category.term_id GROUP BY lineage.ancestor_id UNION ALL SELECT 'comune' AS facet, CAST(places.code AS VARCHAR) AS key, count(distinct(places.id)) AS count_3 
FROM (SELECT matching.id AS id, location.comune_istat AS code 
FROM matching JOIN service_at_location ON service_at_location.service_id = matching.id JOIN location ON location.id = service_at_location.location_id 
WHERE location.status = 'published' AND location.comune_istat IS NOT NULL UNION ALL SELECT matching.id AS id, unnest(matching.service_area_comuni) AS code 
FROM matching) AS places GROUP BY places.code UNION ALL SELECT 'target_group' AS facet, CAST(anon_1.value AS VARCHAR) AS key, count(*) AS count_4 
FROM (SELECT matching.id AS id, unnest(matching.target_groups) AS value 
FROM matching) AS anon_1 GROUP BY anon_1.value UNION ALL SELECT 'delivery' AS facet, CAST(anon_2.value AS VARCHAR) AS key, count(*) AS count_5 
FROM (SELECT matching.id AS id, unnest(matching.delivery) AS value 
FROM matching) AS anon_2 GROUP BY anon_2.value
)
SELECT facet, key, sum(n) FROM (SELECT facet, key, count_1 AS n FROM exact UNION ALL SELECT facet, key, n FROM summed) t GROUP BY facet, key