-- wrk script for POST /api/v1/jobs (bench/run-core.sh passes the Authorization header with -H).
wrk.method = "POST"
wrk.body = '{"type":"demo.sleep","params":{"seconds":5}}'
wrk.headers["Content-Type"] = "application/json"
