: Windows_advfirewall out Policy
: flowmatrix host xms1 (XenMobile reference deployment): out-inet. Allow
: rules only: Windows applies block rules before allow rules whatever
: their order, so set the default action to block (netsh advfirewall set
: allprofiles firewallpolicy blockinbound,blockoutbound)
:
: inet
netsh advfirewall firewall add rule name=o_xm-app-02-2-out-v4 enable=yes interfacetype=any dir=out localip=10.10.20.11/32 remoteip=10.10.20.42/32 remoteport=53 protocol=udp action=allow
netsh advfirewall firewall add rule name=o_xm-app-02-4-out-v4 enable=yes interfacetype=any dir=out localip=10.10.20.11/32 remoteip=10.10.20.42/32 remoteport=53 protocol=tcp action=allow
netsh advfirewall firewall add rule name=o_xm-app-06-2-out-v4 enable=yes interfacetype=any dir=out localip=10.10.20.11/32 remoteip=10.10.20.41/32 remoteport=389 protocol=tcp action=allow
netsh advfirewall firewall add rule name=o_xm-app-09-1-out-v4 enable=yes interfacetype=any dir=out localip=10.10.20.11/32 remoteip=10.10.20.11/32 remoteport=443 protocol=tcp action=allow
netsh advfirewall firewall add rule name=o_xm-app-09-1-out-v4 enable=yes interfacetype=any dir=out localip=10.10.20.11/32 remoteip=10.10.20.12/32 remoteport=443 protocol=tcp action=allow
netsh advfirewall firewall add rule name=o_xm-app-13-1-out-v4 enable=yes interfacetype=any dir=out localip=10.10.20.11/32 remoteip=172.16.10.10/32 remoteport=443 protocol=tcp action=allow
netsh advfirewall firewall add rule name=o_xm-app-23-1-out-v4 enable=yes interfacetype=any dir=out localip=10.10.20.11/32 remoteip=10.10.20.11/32 remoteport=80,45000 protocol=tcp action=allow
netsh advfirewall firewall add rule name=o_xm-app-23-1-out-v4 enable=yes interfacetype=any dir=out localip=10.10.20.11/32 remoteip=10.10.20.12/32 remoteport=80,45000 protocol=tcp action=allow
netsh advfirewall firewall add rule name=o_xm-app-24-1-out-v4 enable=yes interfacetype=any dir=out localip=10.10.20.11/32 remoteip=10.10.20.11/32 remoteport=8443 protocol=tcp action=allow
netsh advfirewall firewall add rule name=o_xm-app-24-1-out-v4 enable=yes interfacetype=any dir=out localip=10.10.20.11/32 remoteip=10.10.20.12/32 remoteport=8443 protocol=tcp action=allow
netsh advfirewall firewall add rule name=o_xm-app-26-1-out-v4 enable=yes interfacetype=any dir=out localip=10.10.20.11/32 remoteip=10.10.20.11/32 remoteport=4443 protocol=tcp action=allow
netsh advfirewall firewall add rule name=o_xm-app-26-1-out-v4 enable=yes interfacetype=any dir=out localip=10.10.20.11/32 remoteip=10.10.20.12/32 remoteport=4443 protocol=tcp action=allow
netsh advfirewall firewall add rule name=o_xm-dev-07-1-out-v4 enable=yes interfacetype=any dir=out localip=10.10.20.11/32 remoteip=10.10.20.51/32 remoteport=1433 protocol=tcp action=allow
netsh advfirewall firewall add rule name=o_xm-add-01-1-out-v4 enable=yes interfacetype=any dir=out localip=10.10.20.11/32 remoteip=17.0.0.0/8 remoteport=443 protocol=tcp action=allow
netsh advfirewall firewall add rule name=o_xm-add-02-1-out-v4 enable=yes interfacetype=any dir=out localip=10.10.20.11/32 remoteip=any remoteport=443 protocol=tcp action=allow
: Windows_advfirewall in Policy
: flowmatrix host xms1 (XenMobile reference deployment): in-inet. Allow
: rules only: Windows applies block rules before allow rules whatever
: their order, so set the default action to block (netsh advfirewall set
: allprofiles firewallpolicy blockinbound,blockoutbound)
:
: inet
netsh advfirewall firewall add rule name=i_xm-app-09-1-in-v4 enable=yes interfacetype=any dir=in remoteip=10.10.20.11/32,10.10.20.12/32 localip=10.10.20.11/32 localport=443 protocol=tcp action=allow
netsh advfirewall firewall add rule name=i_xm-app-10-1-in-v4 enable=yes interfacetype=any dir=in remoteip=any localip=10.10.20.11/32 localport=443 protocol=tcp action=allow
netsh advfirewall firewall add rule name=i_xm-app-23-1-in-v4 enable=yes interfacetype=any dir=in remoteip=10.10.20.11/32,10.10.20.12/32 localip=10.10.20.11/32 localport=80,45000 protocol=tcp action=allow
netsh advfirewall firewall add rule name=i_xm-app-24-1-in-v4 enable=yes interfacetype=any dir=in remoteip=10.10.20.11/32,10.10.20.12/32 localip=10.10.20.11/32 localport=8443 protocol=tcp action=allow
netsh advfirewall firewall add rule name=i_xm-app-24-2-in-v4 enable=yes interfacetype=any dir=in remoteip=172.16.10.20/32 localip=10.10.20.11/32 localport=8443 protocol=tcp action=allow
netsh advfirewall firewall add rule name=i_xm-app-24-3-in-v4 enable=yes interfacetype=any dir=in remoteip=10.10.96.0/22 localip=10.10.20.11/32 localport=8443 protocol=tcp action=allow
netsh advfirewall firewall add rule name=i_xm-app-24-4-in-v4 enable=yes interfacetype=any dir=in remoteip=any localip=10.10.20.11/32 localport=8443 protocol=tcp action=allow
netsh advfirewall firewall add rule name=i_xm-app-25-1-in-v4 enable=yes interfacetype=any dir=in remoteip=10.10.50.0/24 localip=10.10.20.11/32 localport=4443 protocol=tcp action=allow
netsh advfirewall firewall add rule name=i_xm-app-26-1-in-v4 enable=yes interfacetype=any dir=in remoteip=10.10.20.11/32,10.10.20.12/32 localip=10.10.20.11/32 localport=4443 protocol=tcp action=allow
netsh advfirewall firewall add rule name=i_xm-dev-05-1-in-v4 enable=yes interfacetype=any dir=in remoteip=10.10.96.0/22 localip=10.10.20.11/32 localport=443 protocol=tcp action=allow
