CALL inventory_write_instance(
    :mode, :id, :account, :region, :state, :instance_type, :image_id, :platform,
    :launch_time, :tags, :source, :now, :packages,
    :platform_name, :platform_version, :os_release, :version_scheme, :own_transaction)
