CALL inventory_link_packages(:id, :packages, FALSE, :source, :at, :version_scheme)
