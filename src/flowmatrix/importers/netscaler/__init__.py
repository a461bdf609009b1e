"""``flowmatrix import netscaler``: a NetScaler ns.conf becomes a site draft.

The pipeline has four steps, each its own module:

- ``lexer``: ns.conf text -> commands (words, options), secrets redacted on the spot;
- ``reader``: commands -> ``Inventory``, what the appliance says (addresses, vservers,
  services, authentication servers, DNS, NTP, syslog, routes), each with its line;
- ``deployment``: inventory -> ``Deployment``, what the inventory means for the flow
  matrix (XenMobile servers behind load balancing, StoreFront, STA, LDAP features...),
  independent of any site-file version;
- ``writer`` (and ``merge``): deployment -> a commented site file of format 2 (``merge``:
  of the format of the site it fills).
"""
