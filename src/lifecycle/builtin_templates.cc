#include "lifecycle/builtin_templates.h"

namespace gantry::lifecycle {

const std::vector<Template>& BuiltinTemplates() {
  static const std::vector<Template> templates = {
      {0, "gantry-script", "script",
       R"({{! Read by Gantry's installer initramfs: one shell variable a line. }}
HOSTNAME='{{hostname}}'
MAC='{{mac}}'
DISK='{{disk}}'
DISK_LAYOUT='{{disk_layout}}'
IMAGE_URL='{{image_url}}'
ROLE='{{role}}'
GPU_DRIVER='{{#if gpu}}{{gpu_driver}}{{/if}}'
CUDA_VERSION='{{#if gpu}}{{cuda_version}}{{/if}}'
MARKER='provisioned {{hostname}} {{mac}}'
{{#each ssh_keys}}SSH_KEY='{{.}}'
{{/each}})",
       true, 0, 0},
      {0, "kickstart", "kickstart",
       R"(# Kickstart for {{hostname}}, rendered by Gantry
text
reboot
lang en_US.UTF-8
keyboard us
timezone {{timezone}} --utc
network --bootproto={{#if ip}}static --ip={{ip}} --netmask={{netmask}} --gateway={{gateway}}{{else}}dhcp{{/if}} --hostname={{hostname}}
rootpw --lock
ignoredisk --only-use={{disk_name}}
clearpart --all --initlabel --drives={{disk_name}}
{{#if lvm}}autopart --type=lvm{{else}}autopart --type=plain{{/if}}
%packages
@^minimal-environment
{{#if gpu}}{{gpu_driver}}
cuda-toolkit-{{cuda_version}}
{{/if}}%end
%post
mkdir -p /root/.ssh && chmod 700 /root/.ssh
{{#each ssh_keys}}echo '{{.}}' >> /root/.ssh/authorized_keys
{{/each}}curl -fsS -X POST -H 'Content-Type: application/json' --data '{"status":"ok"}' '{{callback_url}}'
%end
)",
       true, 0, 0},
      {0, "preseed", "preseed",
       R"(# Debian preseed for {{hostname}}, rendered by Gantry
d-i debian-installer/locale string en_US.UTF-8
d-i keyboard-configuration/xkb-keymap select us
d-i netcfg/get_hostname string {{hostname}}
{{#if ip}}d-i netcfg/disable_autoconfig boolean true
d-i netcfg/get_ipaddress string {{ip}}
d-i netcfg/get_netmask string {{netmask}}
d-i netcfg/get_gateway string {{gateway}}
{{/if}}d-i time/zone string {{timezone}}
d-i partman-auto/disk string {{disk}}
d-i partman-auto/method string {{#if lvm}}lvm{{else}}regular{{/if}}
d-i partman-auto/choose_recipe select atomic
d-i partman/confirm boolean true
d-i partman/confirm_nooverwrite boolean true
d-i passwd/root-login boolean false
d-i passwd/make-user boolean false
d-i pkgsel/include string openssh-server curl{{#if gpu}} {{gpu_driver}}{{/if}}
d-i preseed/late_command string in-target sh -c 'mkdir -p /root/.ssh{{#each ssh_keys}}; echo "{{.}}" >> /root/.ssh/authorized_keys{{/each}}'; wget -q -O /dev/null --post-data '{"status":"ok"}' --header 'Content-Type: application/json' '{{callback_url}}'
d-i finish-install/reboot_in_progress note
)",
       true, 0, 0},
      {0, "cloud-init", "cloud-init",
       R"(#cloud-config
# cloud-init user data for {{hostname}} (also usable as Ubuntu autoinstall user-data), rendered by Gantry
hostname: {{hostname}}
fqdn: {{hostname}}
ssh_authorized_keys:
{{#each ssh_keys}}  - {{.}}
{{/each}}{{#if gpu}}packages:
  - {{gpu_driver}}
  - cuda-toolkit-{{cuda_version}}
{{/if}}phone_home:
  url: {{callback_url}}
  post: [hostname]
  tries: 10
)",
       true, 0, 0},
  };
  return templates;
}

}  // namespace gantry::lifecycle
