#!/usr/bin/env bash
# Stops what deploy/dev/up.sh started (`make down`): the services, then the stack. Data in
# .run/ is kept; deploy/dev/stack.sh reset deletes it.
set -euo pipefail
DEV=$(cd "$(dirname "$0")" && pwd -P)
rc=0
"$DEV/services.sh" stop || rc=1
"$DEV/stack.sh" down || rc=1
exit $rc
