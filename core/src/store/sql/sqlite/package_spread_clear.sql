DELETE FROM package_spread
