"""Geography: the offline gazetteer of comuni, and (as the work needs) spatial query builders."""
