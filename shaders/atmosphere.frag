#version 330
// The sky and the glowing limb: single scattering (Rayleigh + Mie) along each
// view ray that misses the Earth, composited over what is behind it (stars, Sun, Moon) with
// premultiplied blending: out = inscatter + (1 - alpha) * behind, alpha = 1 - mean transmittance.
#pragma include "atmosphere_common.glsl"

uniform mat3 u_cam_to_atm;                // camera axes -> atmosphere space (not orthonormal: z scaled)
uniform int u_steps;                      // view samples along a limb ray

in vec3 v_ray_cam;
out vec4 o_color;

void main() {
    vec3 rd = normalize(u_cam_to_atm * v_ray_cam);
    vec3 inscatter, transmittance;
    sky_ray(u_cam_atm, rd, u_steps, inscatter, transmittance);
    float alpha = 1.0 - dot(transmittance, vec3(1.0 / 3.0));
    o_color = vec4(inscatter, alpha);
}
