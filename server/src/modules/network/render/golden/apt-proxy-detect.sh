#!/bin/bash
# Written by Proximity: apt's proxy for Debian packages is the network appliance's package
# cache while it answers, else none (DIRECT).
if timeout 1 bash -c ': < /dev/tcp/10.20.0.1/3142' 2>/dev/null; then
  echo "http://10.20.0.1:3142"
else
  echo DIRECT
fi
