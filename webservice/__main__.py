"""`python -m webservice`: serve the skill over HTTP (see webservice.app)."""

import sys

from webservice.app import main

sys.exit(main())
