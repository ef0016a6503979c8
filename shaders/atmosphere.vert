#version 330
// The sky pass: a full-screen quad drawn at the far plane (depth 1.0) after the Earth, so only
// pixels the Earth did not cover run the ray march. The quad's vertices are already in NDC (x, z).
in vec4 p3d_Vertex;
uniform vec2 u_tan_half_fov;              // tan(fov_x / 2), tan(fov_y / 2)
out vec3 v_ray_cam;                       // view ray in camera axes (right, forward, up)

void main() {
    vec2 ndc = p3d_Vertex.xz;
    gl_Position = vec4(ndc, 1.0, 1.0);
    v_ray_cam = vec3(ndc.x * u_tan_half_fov.x, 1.0, ndc.y * u_tan_half_fov.y);
}
