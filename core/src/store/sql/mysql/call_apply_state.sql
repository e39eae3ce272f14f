CALL inventory_apply_state(
    :id, :account, :region, :state, :instance_type, :image_id, :platform, :launch_time,
    :tags, :source, :now, :time, :has_details, :captured_at, :packages,
    :platform_name, :platform_version, :os_release, :version_scheme, :own_transaction)
