//! Which `router:plugin` ABI versions this host runs, and which a component was built for.

/// The plugin ABI versions this host binds, for messages about a guest built for another.
pub const SUPPORTED_ABI: &str = router_plugin_kit::wit::SUPPORTED;

/// The `router:plugin` versions a component names in its imports and exports (`0.2.0`…).
pub(crate) fn abi_versions(component: &wasmtime::component::Component, engine: &wasmtime::Engine) -> Vec<String> {
    let ty = component.component_type();
    let names: Vec<String> = ty
        .imports(engine)
        .map(|(name, _)| name.to_string())
        .chain(ty.exports(engine).map(|(name, _)| name.to_string()))
        .collect();
    router_plugin_kit::wit::versions(names.iter().map(String::as_str))
}
