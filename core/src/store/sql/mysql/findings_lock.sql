SELECT 1 AS locked FROM inventory_lock WHERE name = 'findings' FOR UPDATE
