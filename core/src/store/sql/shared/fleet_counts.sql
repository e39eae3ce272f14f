SELECT 'account' AS dimension, e.account AS value, COUNT(*) AS instances FROM ec2 e GROUP BY e.account
UNION ALL
SELECT 'region' AS dimension, e.region AS value, COUNT(*) AS instances FROM ec2 e GROUP BY e.region
UNION ALL
SELECT 'state' AS dimension, e.state AS value, COUNT(*) AS instances FROM ec2 e GROUP BY e.state
UNION ALL
SELECT 'platform' AS dimension, e.platform AS value, COUNT(*) AS instances FROM ec2 e GROUP BY e.platform
