#version 330
// Spacecraft surfaces: glTF metallic-roughness materials lit by
//  - the Sun: irradiance x the vehicle's sunlit fraction (Earth's shadow, from the ephemeris);
//    GGX specular + Lambert diffuse
//  - the Earth as an area light and a reflection environment: below the horizon (the cap of
//    directions within the Earth's angular radius of the nadir) the mean radiance of the visible
//    Earth, above it black space, with a thin blue limb band; blurred by roughness
//  - cabin floodlights (interior views): a point light at the camera and one lamp further in
//  - the Sun through the crossing room's most sunlit window (interior views, docs/crossing.md):
//    a beam of the window's cross-section along the Sun direction (what lies in it gets the
//    Sun's irradiance, Lambert; nothing in the cabin shadows it) and its scattered light as a
//    point light just inside the window
// No shadows between parts (documented limitation).
uniform struct p3d_MaterialParameters {
    vec4 baseColor;
    vec4 emission;
    float roughness;
    float metallic;
} p3d_Material;
uniform vec4 p3d_ColorScale;

uniform vec3 u_sun_dir;          // unit, world
uniform vec3 u_sun_light;        // irradiance (sunlit fraction applied)
uniform vec3 u_up;               // radial up at the vehicle, world
uniform float u_earth_cos;       // cos of the Earth's angular radius seen from the vehicle
uniform vec3 u_earth_radiance;   // mean radiance of the visible Earth
uniform vec3 u_limb_radiance;    // radiance of the limb band
uniform vec3 u_cabin_light;      // point-light intensity at the camera (0 outside)
uniform vec3 u_lamp_pos;         // a second cabin lamp (world position) ...
uniform vec3 u_lamp;             // ... and its intensity (0 outside)
uniform vec3 u_win_pos;          // the sunlit window's centre (world) ...
uniform float u_win_radius;      // ... the radius of its beam (cross-section as a disc, m) ...
uniform vec3 u_win_sun;          // ... the irradiance in the beam (0: no sun through a window)
uniform vec3 u_win_bounce_pos;   // the beam's light scattered by the cabin: a point light ...
uniform vec3 u_win_bounce;       // ... and its intensity
uniform vec3 u_ambient;          // small constant floor (illustrative)
// the eye this fragment is seen from (world, camera-centred m): the camera itself (0) for one
// view; with both eyes side by side in one render (the VR shared cull) the left eye's left of
// column u_eye_split of the NEAR buffer, the right eye's from there on
uniform float u_eye_split;       // mono: 1e9 (every fragment the left, = the camera)
uniform vec3 u_eye_left;
uniform vec3 u_eye_right;

in vec3 v_pos;
in vec3 v_normal;
out vec4 o_color;

const float PI = 3.14159265358979;

float ggx_d(float n_h, float a) {
    float a2 = a * a;
    float d = n_h * n_h * (a2 - 1.0) + 1.0;
    return a2 / (PI * d * d);
}

float smith_g1(float n_x, float a) {
    float a2 = a * a;
    return 2.0 * n_x / (n_x + sqrt(a2 + (1.0 - a2) * n_x * n_x));
}

// radiance of the environment in direction d, smoothed over a cone of width w (cosine units)
vec3 environment(vec3 d, float w) {
    float c = dot(d, -u_up);
    float earth = smoothstep(u_earth_cos - w, u_earth_cos + w, c);
    float limb = exp(-pow((c - u_earth_cos) / (0.02 + w), 2.0));
    return earth * u_earth_radiance + limb * u_limb_radiance;
}

// Fraction of the hemisphere around n filled by the Earth, weighted by cosine (view factor),
// approximated by a power of (1 - n.up) / 2 that matches 0 at the zenith, ~0.35 sideways and
// sin^2(Earth radius) at the nadir.
float earth_view_factor(vec3 n) {
    float s2 = 1.0 - u_earth_cos * u_earth_cos;
    return s2 * pow(clamp(0.5 - 0.5 * dot(n, u_up), 0.0, 1.0), 1.4);
}

// Karis / Lazarov analytic approximation of the split-sum environment BRDF
vec2 env_brdf(float n_v, float rough) {
    const vec4 c0 = vec4(-1.0, -0.0275, -0.572, 0.022);
    const vec4 c1 = vec4(1.0, 0.0425, 1.04, -0.04);
    vec4 r = rough * c0 + c1;
    float a004 = min(r.x * r.x, exp2(-9.28 * n_v)) * r.x + r.y;
    return vec2(-1.04, 1.04) * a004 + r.zw;
}

void main() {
    vec3 base = p3d_Material.baseColor.rgb * p3d_ColorScale.rgb;
    float metallic = clamp(p3d_Material.metallic, 0.0, 1.0);
    float rough = clamp(p3d_Material.roughness, 0.04, 1.0);
    float a = rough * rough;
    vec3 n = normalize(v_normal);
    vec3 eye = gl_FragCoord.x < u_eye_split ? u_eye_left : u_eye_right;
    vec3 from_eye = v_pos - eye;
    vec3 v = normalize(-from_eye);
    if (dot(n, v) < 0.0) n = -n;                      // double-sided parts, seen from behind
    float n_v = max(dot(n, v), 1e-3);
    vec3 f0 = mix(vec3(0.04), base, metallic);
    vec3 diffuse_col = base * (1.0 - metallic);

    vec3 color = vec3(0.0);
    // the Sun
    vec3 l = u_sun_dir;
    float n_l = dot(n, l);
    if (n_l > 0.0) {
        vec3 h = normalize(l + v);
        float n_h = max(dot(n, h), 0.0);
        vec3 f = f0 + (1.0 - f0) * pow(1.0 - max(dot(h, v), 0.0), 5.0);
        float spec = ggx_d(n_h, a) * smith_g1(n_v, a) * smith_g1(n_l, a) / (4.0 * n_v * n_l);
        color += u_sun_light * n_l * (diffuse_col / PI * (1.0 - f) + f * spec);
    }
    // the Earth: diffuse area light and reflections
    color += diffuse_col * u_earth_radiance * earth_view_factor(n);
    vec3 r = reflect(-v, n);
    vec2 ab = env_brdf(n_v, rough);
    color += environment(r, 0.02 + 0.6 * a) * (f0 * ab.x + ab.y);
    // cabin floodlights at the camera (at the eye)
    float d2 = max(dot(from_eye, from_eye), 0.04);
    color += diffuse_col / PI * u_cabin_light * max(dot(n, v), 0.0) / d2;
    vec3 to_lamp = u_lamp_pos - v_pos;
    float dl2 = max(dot(to_lamp, to_lamp), 0.04);
    color += diffuse_col / PI * u_lamp * max(dot(n, to_lamp * inversesqrt(dl2)), 0.0) / dl2;
    // the Sun through a window: inside the cylinder from the window along the Sun's travel
    vec3 from_win = v_pos - u_win_pos;
    float along = -dot(from_win, u_sun_dir);
    vec3 across = from_win + along * u_sun_dir;
    float beam = 0.0;   // (smoothstep is undefined for equal edges: no beam when the radius is 0)
    if (along > 0.0 && u_win_radius > 0.0) beam = 1.0 - smoothstep(0.9 * u_win_radius, u_win_radius, length(across));
    color += diffuse_col / PI * u_win_sun * beam * max(n_l, 0.0);
    vec3 to_bounce = u_win_bounce_pos - v_pos;
    float db2 = max(dot(to_bounce, to_bounce), 0.04);
    color += diffuse_col / PI * u_win_bounce * max(dot(n, to_bounce * inversesqrt(db2)), 0.0) / db2;
    color += diffuse_col * u_ambient + p3d_Material.emission.rgb;
    o_color = vec4(color, 1.0);
}
