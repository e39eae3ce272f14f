CALL inventory_replace_packages(
    :id, :captured_at, :now, :source, :packages,
    :platform_name, :platform_version, :os_release, :version_scheme, :own_transaction)
