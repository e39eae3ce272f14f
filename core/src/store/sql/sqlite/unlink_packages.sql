DELETE FROM ec2_package WHERE ec2_id = :id
