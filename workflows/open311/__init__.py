"""Open311 GeoReport v2: the channels that submit requests, and how cases read as requests."""
