CALL inventory_replace_packages(:id, :captured_at, :now, :source, :packages, :own_transaction)
