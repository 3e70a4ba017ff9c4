#!/usr/bin/env bash
# Runs a diffmesh program as several processes with Debian's OpenMPI:
#   bash scripts/mpirun.sh -np 2 build/examples/bfs 100000 500000 10 100 --workers 1
# Arguments go to mpirun unchanged. Set for a single machine (loopback TCP
# and shared memory), as root (containers) and with more processes than
# cores; across hosts, pass a hostfile (see README) and set
# DIFFMESH_MPI_NETWORK to the interface the hosts share (e.g. eth0).
set -euo pipefail
if ! command -v mpirun > /dev/null; then
  echo "mpirun.sh: mpirun not found; install Debian's openmpi-bin (bash scripts/install-deps.sh)" >&2
  exit 2
fi
network="${DIFFMESH_MPI_NETWORK:-lo}"
export OMPI_MCA_btl="${OMPI_MCA_btl:-self,vader,tcp}"
export OMPI_MCA_btl_tcp_if_include="${OMPI_MCA_btl_tcp_if_include:-$network}"
export OMPI_MCA_oob_tcp_if_include="${OMPI_MCA_oob_tcp_if_include:-$network}"
# Cross-memory attach needs ptrace rights that containers often lack.
export OMPI_MCA_btl_vader_single_copy_mechanism="${OMPI_MCA_btl_vader_single_copy_mechanism:-none}"
export OMPI_MCA_rmaps_base_oversubscribe="${OMPI_MCA_rmaps_base_oversubscribe:-1}"
# No InfiniBand or other fabrics to probe for on a plain machine.
export OMPI_MCA_pml="${OMPI_MCA_pml:-ob1}"
export OMPI_MCA_mtl="${OMPI_MCA_mtl:-^ofi,psm,psm2}"
flags=(--oversubscribe)
if [ "$(id -u)" -eq 0 ]; then
  flags+=(--allow-run-as-root)
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
exec mpirun "${flags[@]}" "$@"
