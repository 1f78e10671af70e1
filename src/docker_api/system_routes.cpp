// System: /_ping, /version, /info, /system/df.

#include <fstream>
#include <map>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "base/digest.hpp"
#include "base/version.hpp"
#include "daemon/wire_time.hpp"
#include "docker_api/container_json.hpp"
#include "docker_api/image_json.hpp"
#include "docker_api/routes.hpp"

namespace grove::docker_api {
namespace {

struct Host {
    std::string kernel;
    std::string arch;  // Go's names: amd64, arm64
    std::string name;
    std::string os;  // PRETTY_NAME of /etc/os-release
};

Host host() {
    Host host;
    struct utsname uts {};
    if (::uname(&uts) == 0) {
        host.kernel = uts.release;
        host.name = uts.nodename;
        const std::string machine = uts.machine;
        host.arch = machine == "x86_64" ? "amd64" : machine == "aarch64" ? "arm64" : machine;
    }
    std::ifstream release("/etc/os-release");
    for (std::string line; std::getline(release, line);) {
        if (line.starts_with("PRETTY_NAME=")) {
            host.os = line.substr(12);
            if (host.os.size() >= 2 && host.os.front() == '"') {
                host.os = host.os.substr(1, host.os.size() - 2);
            }
        }
    }
    return host;
}

Result<void> ping(http::Request&, http::ResponseWriter& writer) {
    http::Response response = http::Response::text(200, "OK", "text/plain; charset=utf-8");
    response.headers.set("Cache-Control", "no-cache, no-store, must-revalidate");
    response.headers.set("Pragma", "no-cache");
    response.headers.set("Builder-Version", "1");
    return writer.send(std::move(response));
}

Result<void> version(http::Request&, http::ResponseWriter& writer) {
    const Host h = host();
    const std::string grove_version(base::version());
    const base::Json details{{"ApiVersion", kApiVersion},
                             {"Arch", h.arch},
                             {"BuildTime", ""},
                             {"Experimental", "false"},
                             {"GitCommit", ""},
                             {"GoVersion", "none (C++)"},
                             {"KernelVersion", h.kernel},
                             {"MinAPIVersion", kMinApiVersion},
                             {"Os", "linux"}};
    return send_json(
        writer, 200,
        {{"Platform", {{"Name", "grove"}}},
         {"Components",
          base::Json::array(
              {{{"Name", "Engine"}, {"Version", grove_version}, {"Details", details}}})},
         {"Version", grove_version},
         {"ApiVersion", kApiVersion},
         {"MinAPIVersion", kMinApiVersion},
         {"GitCommit", ""},
         {"GoVersion", "none (C++)"},
         {"Os", "linux"},
         {"Arch", h.arch},
         {"KernelVersion", h.kernel},
         {"BuildTime", ""}});
}

// dockerd's ID is 12 groups of 4; grove derives one from the store's path, so it is stable.
std::string daemon_id(const std::string& root) {
    const std::string hex(base::Digest::sha256_of(root).encoded());
    std::string id;
    for (size_t i = 0; i < 12; ++i) {
        if (i > 0) {
            id += ':';
        }
        for (size_t j = 0; j < 4; ++j) {
            const char c = hex[i * 4 + j];
            id += static_cast<char>(c >= 'a' ? c - 'a' + 'A' : c);
        }
    }
    return id;
}

Result<void> info(const DockerServices& services, http::Request&, http::ResponseWriter& writer) {
    GROVE_ASSIGN_OR_RETURN(const auto images, services.images.list({}));
    const Host h = host();
    struct sysinfo sys {};
    ::sysinfo(&sys);
    const bool cgroup2 = ::access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0;
    const std::string root = services.images.paths().root.string();
    const base::Json runtimes{{"grove", {{"path", "groved"}}}};
    return send_json(writer, 200,
                     {{"ID", daemon_id(root)},
                      {"Containers", 0},
                      {"ContainersRunning", 0},
                      {"ContainersPaused", 0},
                      {"ContainersStopped", 0},
                      {"Images", images.size()},
                      {"Driver", "overlay2"},
                      {"DriverStatus", base::Json::array()},
                      {"Plugins",
                       {{"Volume", base::Json::array()},
                        {"Network", base::Json::array({"host", "none"})},
                        {"Authorization", nullptr},
                        {"Log", base::Json::array()}}},
                      {"MemoryLimit", true},
                      {"SwapLimit", false},
                      {"KernelMemory", false},
                      {"KernelMemoryTCP", false},
                      {"CpuCfsPeriod", true},
                      {"CpuCfsQuota", true},
                      {"CPUShares", true},
                      {"CPUSet", true},
                      {"PidsLimit", true},
                      {"IPv4Forwarding", false},
                      {"BridgeNfIptables", false},
                      {"BridgeNfIp6tables", false},
                      {"Debug", false},
                      {"NFd", 0},
                      {"OomKillDisable", false},
                      {"NGoroutines", 0},
                      {"SystemTime", daemon::rfc3339_nanos(daemon::now_ns())},
                      {"LoggingDriver", "json-file"},
                      {"CgroupDriver", "cgroupfs"},
                      {"CgroupVersion", cgroup2 ? "2" : "1"},
                      {"NEventsListener", 0},
                      {"KernelVersion", h.kernel},
                      {"OperatingSystem", h.os},
                      {"OSVersion", ""},
                      {"OSType", "linux"},
                      {"Architecture", h.arch},
                      {"IndexServerAddress", "https://index.docker.io/v1/"},
                      {"RegistryConfig",
                       {{"IndexConfigs", base::Json::object()},
                        {"InsecureRegistryCIDRs", base::Json::array({"127.0.0.0/8"})},
                        {"Mirrors", base::Json::array()}}},
                      {"NCPU", ::sysconf(_SC_NPROCESSORS_ONLN)},
                      {"MemTotal", static_cast<uint64_t>(sys.totalram) * sys.mem_unit},
                      {"GenericResources", nullptr},
                      {"DockerRootDir", root},
                      {"HttpProxy", ""},
                      {"HttpsProxy", ""},
                      {"NoProxy", ""},
                      {"Name", h.name},
                      {"Labels", base::Json::array()},
                      {"ExperimentalBuild", false},
                      {"ServerVersion", std::string(base::version())},
                      {"Runtimes", runtimes},
                      {"DefaultRuntime", "grove"},
                      {"Swarm",
                       {{"LocalNodeState", "inactive"},
                        {"NodeID", ""},
                        {"NodeAddr", ""},
                        {"ControlAvailable", false},
                        {"Error", ""},
                        {"RemoteManagers", nullptr}}},
                      {"LiveRestoreEnabled", false},
                      {"Isolation", ""},
                      {"InitBinary", "grove-init"},
                      {"ContainerdCommit", {{"ID", ""}, {"Expected", ""}}},
                      {"RuncCommit", {{"ID", ""}, {"Expected", ""}}},
                      {"InitCommit", {{"ID", ""}, {"Expected", ""}}},
                      {"SecurityOptions", base::Json::array({"name=seccomp,profile=default"})},
                      {"Warnings", base::Json::array()}});
}

Result<void> disk_usage(const DockerServices& services,
                        http::Request&,
                        http::ResponseWriter& writer) {
    GROVE_ASSIGN_OR_RETURN(const auto images, services.images.list({}));
    // An image's size_physical counts its parent's: each adds only the difference.
    std::map<std::string, uint64_t> physical;
    for (const auto& image : images) {
        physical[image.uuid] = image.size_physical;
    }
    base::Json list = base::Json::array();
    uint64_t layers_size = 0;
    for (const auto& image : images) {
        base::Json entry = list_entry(image);
        entry["Containers"] = 0;
        list.push_back(std::move(entry));
        const uint64_t below = image.parent ? physical[*image.parent] : 0;
        layers_size += image.size_physical > below ? image.size_physical - below : 0;
    }
    GROVE_ASSIGN_OR_RETURN(const auto found, services.containers.manager().list({.all = true}));
    base::Json containers = base::Json::array();
    for (const auto& c : found) {
        containers.push_back(list_entry(c, services.containers.extras(c.id)));
        GROVE_TRY(add_container_sizes(services, c, containers.back()));
    }
    return send_json(writer, 200,
                     {{"LayersSize", layers_size},
                      {"Images", std::move(list)},
                      {"Containers", std::move(containers)},
                      {"Volumes", base::Json::array()},
                      {"BuildCache", base::Json::array()}});
}

}  // namespace

void add_system_routes(http::Router& router, const DockerServices& services) {
    route(router, services, "GET", "/_ping", ping);
    route(router, services, "HEAD", "/_ping", ping);
    route(router, services, "GET", "/version", version);
    route(router, services, "GET", "/info",
          [services](http::Request& r, http::ResponseWriter& w) { return info(services, r, w); });
    route(router, services, "GET", "/system/df",
          [services](http::Request& r, http::ResponseWriter& w) {
              return disk_usage(services, r, w);
          });
}

}  // namespace grove::docker_api
