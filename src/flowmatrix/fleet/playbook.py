"""The playbook that ships the probe and a host's plan, runs it, and fetches the results.

It is the same for every site (everything site-specific is in the inventory and in the
per-host plan files), uses only ``ansible.builtin`` modules, and works on POSIX hosts.
"""

from __future__ import annotations

PROBE_NAME = "flowmatrix-probe.pyz"
PLANS_DIR = "plans"
RESULTS_DIR = "results"

PLAYBOOK = """\
# Written by 'flowmatrix fleet export'. Runs the flowmatrix probe on every source host
# for the flows that host is the source of, and fetches the results next to this file.
#
#   ansible-playbook -i inventory.yml [-i your-inventory] playbook.yml [--check] [--forks 50]
#
# Variables you may set (group_vars, host_vars or -e):
#   flowmatrix_remote_dir   working folder on the host (default ~/.flowmatrix)
#   flowmatrix_python       Python 3.10+ on the host that runs the probe
#                           (default: ansible_python_interpreter, or the one Ansible found)
#   flowmatrix_probe_args   extra probe options, e.g. ["--timeout", "3"]
#   flowmatrix_environment  environment of the probe, e.g. FLOWMATRIX_RADIUS_SECRET
#   flowmatrix_results_dir  where results land on the control node (default: ./results here)
- name: flowmatrix verify from every source host
  hosts: flowmatrix_sources
  gather_facts: false
  become: false
  vars:
    flowmatrix_remote_dir_default: "~/.flowmatrix"
    flowmatrix_probe_python: >-
      {{ flowmatrix_python | default(ansible_python_interpreter
           if (ansible_python_interpreter | default('auto')) is not match('auto')
           else ansible_facts.discovered_interpreter_python | default('python3')) }}
  tasks:
    - name: Working folder
      ansible.builtin.file:
        path: "{{ flowmatrix_remote_dir | default(flowmatrix_remote_dir_default) }}"
        state: directory
        mode: "0700"
      register: flowmatrix_dir

    - name: Probe (a zipapp that needs only Python 3 on the host)
      ansible.builtin.copy:
        src: "{{ playbook_dir }}/files/@PROBE@"
        dest: "{{ flowmatrix_dir.path }}/@PROBE@"
        mode: "0644"

    - name: This host's flows
      ansible.builtin.copy:
        src: "{{ playbook_dir }}/files/@PLANS@/{{ inventory_hostname }}.json"
        dest: "{{ flowmatrix_dir.path }}/plan.json"
        mode: "0600"

    - name: Probes that would run (check mode)
      ansible.builtin.debug:
        msg: >-
          would probe {{ flowmatrix_flows | default('the') }} flow(s) from
          {{ flowmatrix_host }} with {{ flowmatrix_probe_python }}
      when: ansible_check_mode

    - name: Probe this host's flows
      ansible.builtin.command:
        argv: "{{ [flowmatrix_probe_python, flowmatrix_dir.path ~ '/@PROBE@',
                   '--plan', flowmatrix_dir.path ~ '/plan.json',
                   '--from', flowmatrix_host,
                   '--output', flowmatrix_dir.path ~ '/results.json']
                  + (flowmatrix_probe_args | default([])) }}"
      # e.g. {"FLOWMATRIX_RADIUS_SECRET": "{{ vault_radius_secret }}"}: never on the command line
      environment: "{{ flowmatrix_environment | default({}) }}"
      register: flowmatrix_probe
      # Exit 1 means "a flow failed": a finding, reported by the merge, not a task failure.
      failed_when: flowmatrix_probe.rc not in [0, 1]
      # Probing changes nothing on the host.
      changed_when: false
      when: not ansible_check_mode

    - name: Results back to the control node
      ansible.builtin.fetch:
        src: "{{ flowmatrix_dir.path }}/results.json"
        dest: "{{ flowmatrix_results_dir | default(playbook_dir ~ '/@RESULTS@') }}/{{ inventory_hostname }}.json"
        flat: true
      when: not ansible_check_mode
"""


def render_playbook() -> str:
    return (
        PLAYBOOK.replace("@PROBE@", PROBE_NAME)
        .replace("@PLANS@", PLANS_DIR)
        .replace("@RESULTS@", RESULTS_DIR)
    )
