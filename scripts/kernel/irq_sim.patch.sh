#!/bin/sh
# Makes kernel/irq/irq_sim.c build as a module: irq_to_desc() is not exported to modules, so the
# simulated interrupt is raised through generic_handle_irq(), and a module needs a licence.
set -eu
f="$1"
sed -i 's/handle_simple_irq(irq_to_desc(\([a-z_]*\)));/generic_handle_irq(\1);/' "$f"
grep -q 'generic_handle_irq(' "$f" || { echo "irq_sim.patch.sh: the irq_to_desc call was not found in $f" >&2; exit 1; }
grep -q 'MODULE_LICENSE' "$f" || printf '\n#include <linux/module.h>\nMODULE_LICENSE("GPL");\n' >>"$f"
