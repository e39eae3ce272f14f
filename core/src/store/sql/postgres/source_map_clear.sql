DELETE FROM package_source_map WHERE os_release = CAST(:release AS text)
