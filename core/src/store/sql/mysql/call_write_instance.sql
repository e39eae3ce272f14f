CALL inventory_write_instance(
    :mode, :id, :account, :region, :state, :instance_type, :image_id, :platform,
    :launch_time, :tags, :source, :now, :packages, :own_transaction)
