#!/usr/bin/env python3
"""thin-xml-image.py XML DATA ID SIZE OUT: the image of thin device ID as
thin_dump's XML describes it (thin-provisioning-tools, the ecosystem's own
reader), built from the pool's data image DATA: an independent reference
for snap_extract --thin-meta.  Unmapped blocks are zeros; OUT is sparse."""
import sys
import xml.etree.ElementTree as ET

xml, data, dev_id, size, out = sys.argv[1:6]
size = int(size)
root = ET.parse(xml).getroot()
bs = int(root.get("data_block_size")) * 512
with open(data, "rb") as d, open(out, "wb") as o:
    o.truncate(size)
    for dev in root.iter("device"):
        if dev.get("dev_id") != dev_id:
            continue
        for m in dev:
            if m.tag == "single_mapping":
                runs = [(int(m.get("origin_block")), int(m.get("data_block")), 1)]
            else:
                runs = [(int(m.get("origin_begin")), int(m.get("data_begin")), int(m.get("length")))]
            for v, b, n in runs:
                for i in range(n):
                    if (v + i) * bs >= size:
                        break
                    d.seek((b + i) * bs)
                    o.seek((v + i) * bs)
                    o.write(d.read(min(bs, size - (v + i) * bs)))
