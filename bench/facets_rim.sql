-- Services within 3 km of Lecco whose place lies in a UTM cell not wholly inside the circle
-- (what a cell aggregate must still count exactly), for cell sides 25-200 m. Read-only.
WITH q AS (SELECT ST_Transform(ST_SetSRID(ST_MakePoint(9.39, 45.853), 4326), 32632) AS g),
qq AS (SELECT ST_X(g) qx, ST_Y(g) qy, g FROM q),
near AS (
  SELECT l.id, ST_X(l.geom_utm) x, ST_Y(l.geom_utm) y FROM location l, qq
  WHERE l.status='published' AND ST_DWithin(l.geom_utm, qq.g, 3010.5)
    AND (ST_DWithin(l.geom_utm, qq.g, 2998.79) OR ST_DWithin(l.geom::geography, ST_SetSRID(ST_MakePoint(9.39, 45.853), 4326)::geography, 3000.0))
), s AS (SELECT unnest(ARRAY[25.0, 50.0, 100.0, 200.0]) AS side)
SELECT side, count(*) AS near,
  count(*) FILTER (WHERE sqrt(power(greatest(abs(floor(x/side)*side - qx), abs(floor(x/side)*side + side - qx)),2)
                      + power(greatest(abs(floor(y/side)*side - qy), abs(floor(y/side)*side + side - qy)),2)) > 0.9996*3000 - 0.01) AS rim
FROM near, qq, s GROUP BY side ORDER BY side;
