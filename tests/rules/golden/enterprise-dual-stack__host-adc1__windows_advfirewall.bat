: Windows_advfirewall out Policy
: flowmatrix host adc1 (Enterprise dual-stack deployment): out-inet.
: Allow rules only: Windows applies block rules before allow rules
: whatever their order, so set the default action to block (netsh
: advfirewall set allprofiles firewallpolicy blockinbound,blockoutbound)
:
: inet
netsh advfirewall firewall add rule name=o_xm-app-02-1-out-v4 enable=yes interfacetype=any dir=out localip=172.20.1.20/32 remoteip=10.20.3.53/32 remoteport=53 protocol=udp action=allow
netsh advfirewall firewall add rule name=o_xm-app-02-3-out-v4 enable=yes interfacetype=any dir=out localip=172.20.1.20/32 remoteip=10.20.3.53/32 remoteport=53 protocol=tcp action=allow
netsh advfirewall firewall add rule name=o_xm-app-05-1-out-v4 enable=yes interfacetype=any dir=out localip=172.20.1.5/32 remoteip=10.20.3.123/32 remoteport=123 protocol=udp action=allow
netsh advfirewall firewall add rule name=o_xm-app-20-1-out-v4 enable=yes interfacetype=any dir=out localip=172.20.1.5/32 remoteip=10.20.3.10/32 remoteport=3269 protocol=tcp action=allow
netsh advfirewall firewall add rule name=o_xm-app-21-1-out-v4 enable=yes interfacetype=any dir=out localip=172.20.1.20/32 remoteip=10.20.2.10/32 remoteport=9080 protocol=tcp action=allow
netsh advfirewall firewall add rule name=o_xm-app-22-1-out-v4 enable=yes interfacetype=any dir=out localip=172.20.1.20/32 remoteip=10.20.2.10/32 remoteport=9443 protocol=tcp action=allow
netsh advfirewall firewall add rule name=o_xm-app-24-2-out-v4 enable=yes interfacetype=any dir=out localip=172.20.1.20/32 remoteip=10.20.1.11/32 remoteport=8443 protocol=tcp action=allow
netsh advfirewall firewall add rule name=o_xm-app-24-2-out-v4 enable=yes interfacetype=any dir=out localip=172.20.1.20/32 remoteip=10.20.1.12/31 remoteport=8443 protocol=tcp action=allow
: Windows_advfirewall out Policy
: flowmatrix host adc1 (Enterprise dual-stack deployment): out-inet6.
: Allow rules only: Windows applies block rules before allow rules
: whatever their order, so set the default action to block (netsh
: advfirewall set allprofiles firewallpolicy blockinbound,blockoutbound)
:
: inet6
netsh advfirewall firewall add rule name=o_xm-app-02-1-out-v6 enable=yes interfacetype=any dir=out localip=fd00:20:1::20/128 remoteip=fd00:20:2::53/128 remoteport=53 protocol=udp action=allow
netsh advfirewall firewall add rule name=o_xm-app-02-3-out-v6 enable=yes interfacetype=any dir=out localip=fd00:20:1::20/128 remoteip=fd00:20:2::53/128 remoteport=53 protocol=tcp action=allow
netsh advfirewall firewall add rule name=o_xm-app-24-2-out-v6 enable=yes interfacetype=any dir=out localip=fd00:20:1::20/128 remoteip=fd00:20:2::11/128 remoteport=8443 protocol=tcp action=allow
netsh advfirewall firewall add rule name=o_xm-app-24-2-out-v6 enable=yes interfacetype=any dir=out localip=fd00:20:1::20/128 remoteip=fd00:20:2::12/127 remoteport=8443 protocol=tcp action=allow
: Windows_advfirewall in Policy
: flowmatrix host adc1 (Enterprise dual-stack deployment): in-inet.
: Allow rules only: Windows applies block rules before allow rules
: whatever their order, so set the default action to block (netsh
: advfirewall set allprofiles firewallpolicy blockinbound,blockoutbound)
:
: inet
netsh advfirewall firewall add rule name=i_xm-app-08-1-in-v4 enable=yes interfacetype=any dir=in remoteip=any localip=172.20.1.10/32 localport=443 protocol=tcp action=allow
netsh advfirewall firewall add rule name=i_xm-app-13-1-in-v4 enable=yes interfacetype=any dir=in remoteip=10.20.1.11/32,10.20.1.12/31 localip=172.20.1.10/32 localport=443 protocol=tcp action=allow
: Windows_advfirewall in Policy
: flowmatrix host adc1 (Enterprise dual-stack deployment): in-inet6.
: Allow rules only: Windows applies block rules before allow rules
: whatever their order, so set the default action to block (netsh
: advfirewall set allprofiles firewallpolicy blockinbound,blockoutbound)
:
: inet6
netsh advfirewall firewall add rule name=i_xm-app-08-1-in-v6 enable=yes interfacetype=any dir=in remoteip=any localip=fd00:20:1::10/128 localport=443 protocol=tcp action=allow
netsh advfirewall firewall add rule name=i_xm-app-13-1-in-v6 enable=yes interfacetype=any dir=in remoteip=fd00:20:2::11/128,fd00:20:2::12/127 localip=fd00:20:1::10/128 localport=443 protocol=tcp action=allow
