"""Tutorial: "You should now be able to ping the heartbeat IP (a.b.c.d) from both machines" and "By
default, the lb0 should be the preferred server. Only if this server is down lb1 should take over." """

from labgen.testing.suites.vip import (
    test_client_gets_lb0s_page,
    test_vip_answers_ping_from_both_nodes_and_the_client,
    test_vip_is_on_lb0_only,
)
