"""The one place that decides "may this actor do this to this record". Pure: no I/O.

Services gather the facts (the care relationships of a resident that hold now) and ask here;
the API, the pages and the CLI therefore cannot disagree. One module per domain; every
function is also a name of this package (`policy.may_book_kept_slot`), so that callers need
not know which module holds it.
"""

from yilian.auth.policy.actors import *  # noqa: F403
from yilian.auth.policy.administration import *  # noqa: F403
from yilian.auth.policy.admissions import *  # noqa: F403
from yilian.auth.policy.analytics import *  # noqa: F403
from yilian.auth.policy.care import *  # noqa: F403
from yilian.auth.policy.channels import *  # noqa: F403
from yilian.auth.policy.navigation import *  # noqa: F403
from yilian.auth.policy.referrals import *  # noqa: F403
from yilian.auth.policy.residents import *  # noqa: F403
from yilian.auth.policy.scheduling import *  # noqa: F403
