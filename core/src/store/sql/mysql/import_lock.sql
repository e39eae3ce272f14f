SELECT 1 AS locked FROM inventory_lock WHERE name = 'import' FOR UPDATE
